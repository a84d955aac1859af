SELECT
  *
FROM (
  SELECT
    `t7`.`gender`,
    `t7`.`orders`,
    `t7`.`customers`,
    `t7`.`revenue`,
    ieee_divide(
      CAST(FLOOR((
        ieee_divide(CAST(`t7`.`revenue` AS FLOAT64), `t7`.`orders`) * 1
      ) + 0.5) AS INT64),
      1
    ) AS `average_order_value`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t7`.`revenue` AS FLOAT64),
            NULLIF(
              SUM(`t7`.`revenue`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `revenue_share`
  FROM (
    SELECT
      `t6`.`gender`,
      COUNT(`t6`.`order_id`) AS `orders`,
      COUNT(DISTINCT `t6`.`customer_id`) AS `customers`,
      SUM(`t6`.`total`) AS `revenue`
    FROM (
      SELECT
        `t5`.`order_id`,
        `t5`.`customer_id`,
        `t5`.`ordered_at`,
        `t5`.`status`,
        `t5`.`channel`,
        `t5`.`subtotal`,
        `t5`.`discount`,
        `t5`.`shipping_fee`,
        `t5`.`points_used`,
        `t5`.`total`,
        `t5`.`points_earned`,
        `t5`.`coupon_code`,
        `t5`.`subscription_id`,
        `t5`.`payment_method`,
        `t5`.`shipping_prefecture`,
        `t5`.`is_gift`,
        `t5`.`order_date`,
        `t4`.`gender`
      FROM (
        SELECT
          `t0`.`order_id`,
          `t0`.`customer_id`,
          `t0`.`ordered_at`,
          `t0`.`status`,
          `t0`.`channel`,
          `t0`.`subtotal`,
          `t0`.`discount`,
          `t0`.`shipping_fee`,
          `t0`.`points_used`,
          `t0`.`total`,
          `t0`.`points_earned`,
          `t0`.`coupon_code`,
          `t0`.`subscription_id`,
          `t0`.`payment_method`,
          `t0`.`shipping_prefecture`,
          `t0`.`is_gift`,
          DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
        FROM `orders` AS `t0`
        WHERE
          `t0`.`status` = 'completed'
          AND `t0`.`customer_id` IS NOT NULL
          AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
      ) AS `t5`
      INNER JOIN (
        SELECT
          `t1`.`customer_id`,
          COALESCE(`t1`.`gender`, 'unknown') AS `gender`
        FROM `customers` AS `t1`
      ) AS `t4`
        ON `t5`.`customer_id` = `t4`.`customer_id`
    ) AS `t6`
    GROUP BY
      1
  ) AS `t7`
) AS `t8`
ORDER BY
  `t8`.`revenue` DESC,
  `t8`.`gender` ASC NULLS LAST
