SELECT
  *
FROM (
  SELECT
    `t12`.`acquisition_channel`,
    `t12`.`cpm_code`,
    `t12`.`cpm_label`,
    `t12`.`customers`,
    `t12`.`revenue`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t12`.`customers` AS FLOAT64),
            SUM(`t12`.`customers`) OVER (
              PARTITION BY `t12`.`acquisition_channel`
              ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `share_of_channel`
  FROM (
    SELECT
      `t11`.`acquisition_channel`,
      `t11`.`cpm_code`,
      `t11`.`cpm_label`,
      COUNT(`t11`.`customer_id`) AS `customers`,
      SUM(`t11`.`cumulative`) AS `revenue`
    FROM (
      SELECT
        `t10`.`customer_id`,
        `t10`.`first_order`,
        `t10`.`last_order`,
        `t10`.`orders`,
        `t10`.`cumulative`,
        `t10`.`tenure_days`,
        `t10`.`days_since_last`,
        `t10`.`cpm_group`,
        `t10`.`cpm_status`,
        `t10`.`cpm_label`,
        `t10`.`acquisition_channel`,
        CONCAT(
          CASE `t10`.`cpm_group`
            WHEN 'first'
            THEN '0'
            WHEN 'toddler'
            THEN '1'
            WHEN 'steady'
            THEN '2'
            WHEN 'trendy'
            THEN '3'
            WHEN 'loyal'
            THEN '4'
            ELSE `t10`.`cpm_group`
          END,
          IF(`t10`.`cpm_status` = 'active', 'a', 'b')
        ) AS `cpm_code`
      FROM (
        SELECT
          `t9`.`customer_id`,
          `t9`.`first_order`,
          `t9`.`last_order`,
          `t9`.`orders`,
          `t9`.`cumulative`,
          `t9`.`tenure_days`,
          `t9`.`days_since_last`,
          `t9`.`cpm_group`,
          `t9`.`cpm_status`,
          `t9`.`cpm_label`,
          `t3`.`acquisition_channel`
        FROM (
          SELECT
            `t7`.`customer_id`,
            `t7`.`first_order`,
            `t7`.`last_order`,
            `t7`.`orders`,
            `t7`.`cumulative`,
            `t7`.`tenure_days`,
            `t7`.`days_since_last`,
            `t7`.`cpm_group`,
            `t7`.`cpm_status`,
            CONCAT(
              CONCAT(
                CASE `t7`.`cpm_group`
                  WHEN 'first'
                  THEN '初回'
                  WHEN 'toddler'
                  THEN 'よちよち'
                  WHEN 'steady'
                  THEN 'コツコツ'
                  WHEN 'trendy'
                  THEN '流行'
                  WHEN 'loyal'
                  THEN '優良'
                  ELSE `t7`.`cpm_group`
                END,
                CASE `t7`.`cpm_status`
                  WHEN 'active'
                  THEN '現役'
                  WHEN 'lapsed'
                  THEN '離脱'
                  ELSE `t7`.`cpm_status`
                END
              ),
              '客'
            ) AS `cpm_label`
          FROM (
            SELECT
              `t6`.`customer_id`,
              `t6`.`first_order`,
              `t6`.`last_order`,
              `t6`.`orders`,
              `t6`.`cumulative`,
              `t6`.`tenure_days`,
              `t6`.`days_since_last`,
              CASE
                WHEN `t6`.`orders` = 1
                THEN 'first'
                WHEN `t6`.`tenure_days` < 90
                THEN 'toddler'
                WHEN `t6`.`cumulative` < 70000
                THEN 'steady'
                WHEN `t6`.`tenure_days` < 210
                THEN 'trendy'
                ELSE 'loyal'
              END AS `cpm_group`,
              IF(`t6`.`days_since_last` >= 240, 'lapsed', 'active') AS `cpm_status`
            FROM (
              SELECT
                `t5`.`customer_id`,
                `t5`.`first_order`,
                `t5`.`last_order`,
                `t5`.`orders`,
                `t5`.`cumulative`,
                DATE_DIFF(`t5`.`last_order`, `t5`.`first_order`, DAY) AS `tenure_days`,
                DATE_DIFF(DATE(2026, 10, 31), `t5`.`last_order`, DAY) AS `days_since_last`
              FROM (
                SELECT
                  `t4`.`customer_id`,
                  MIN(`t4`.`order_date`) AS `first_order`,
                  MAX(`t4`.`order_date`) AS `last_order`,
                  COUNT(*) AS `orders`,
                  SUM(`t4`.`total`) AS `cumulative`
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
                ) AS `t4`
                GROUP BY
                  1
              ) AS `t5`
            ) AS `t6`
          ) AS `t7`
        ) AS `t9`
        INNER JOIN (
          SELECT
            `t0`.`customer_id`,
            COALESCE(`t0`.`acquisition_channel`, '(不明)') AS `acquisition_channel`
          FROM `customers` AS `t0`
        ) AS `t3`
          ON `t9`.`customer_id` = `t3`.`customer_id`
      ) AS `t10`
    ) AS `t11`
    GROUP BY
      1,
      2,
      3
  ) AS `t12`
) AS `t13`
ORDER BY
  `t13`.`acquisition_channel` ASC NULLS LAST,
  `t13`.`cpm_code` ASC NULLS LAST
