SELECT
  *
FROM (
  SELECT
    `t9`.`bucket_order`,
    `t9`.`bucket`,
    `t9`.`count`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t9`.`count` AS FLOAT64),
            NULLIF(
              SUM(`t9`.`count`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `share`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(SUM(`t9`.`count`) OVER (ORDER BY `t9`.`bucket_order` ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS FLOAT64),
            NULLIF(
              SUM(`t9`.`count`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `cumulative_share`
  FROM (
    SELECT
      `t2`.`bucket_order`,
      `t2`.`bucket`,
      COALESCE(`t8`.`n`, 0) AS `count`
    FROM `memtable_1` AS `t2`
    LEFT OUTER JOIN (
      SELECT
        `t6`.`bucket_order`,
        COUNT(`t6`.`days_to_next`) AS `n`
      FROM (
        SELECT
          `t5`.`customer_id`,
          `t5`.`order_date`,
          `t5`.`next_date`,
          `t5`.`days_to_next`,
          CASE
            WHEN `t5`.`days_to_next` <= 7
            THEN 0
            WHEN `t5`.`days_to_next` <= 14
            THEN 1
            WHEN `t5`.`days_to_next` <= 30
            THEN 2
            WHEN `t5`.`days_to_next` <= 60
            THEN 3
            WHEN `t5`.`days_to_next` <= 90
            THEN 4
            WHEN `t5`.`days_to_next` <= 180
            THEN 5
            WHEN `t5`.`days_to_next` <= 365
            THEN 6
            ELSE 7
          END AS `bucket_order`
        FROM (
          SELECT
            `t4`.`customer_id`,
            `t4`.`order_date`,
            `t4`.`next_date`,
            DATE_DIFF(`t4`.`next_date`, `t4`.`order_date`, DAY) AS `days_to_next`
          FROM (
            SELECT
              `t3`.`customer_id`,
              `t3`.`order_date`,
              LEAD(`t3`.`order_date`) OVER (PARTITION BY `t3`.`customer_id` ORDER BY `t3`.`order_date` ASC) AS `next_date`
            FROM (
              SELECT
                `t1`.`order_id`,
                `t1`.`customer_id`,
                `t1`.`ordered_at`,
                `t1`.`status`,
                `t1`.`channel`,
                `t1`.`subtotal`,
                `t1`.`discount`,
                `t1`.`shipping_fee`,
                `t1`.`points_used`,
                `t1`.`total`,
                `t1`.`points_earned`,
                `t1`.`coupon_code`,
                `t1`.`subscription_id`,
                `t1`.`payment_method`,
                `t1`.`shipping_prefecture`,
                `t1`.`is_gift`,
                DATE(TIMESTAMP_ADD(`t1`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
              FROM `orders` AS `t1`
              WHERE
                `t1`.`status` = 'completed'
                AND `t1`.`customer_id` IS NOT NULL
                AND `t1`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
            ) AS `t3`
          ) AS `t4`
          WHERE
            DATE_DIFF(`t4`.`next_date`, `t4`.`order_date`, DAY) IS NOT NULL
        ) AS `t5`
      ) AS `t6`
      GROUP BY
        1
    ) AS `t8`
      ON `t2`.`bucket_order` = `t8`.`bucket_order`
  ) AS `t9`
) AS `t10`
ORDER BY
  `t10`.`bucket_order` ASC NULLS LAST
