SELECT
  *
FROM (
  SELECT
    `t1`.`customer_id`,
    COUNT(`t1`.`order_id`) AS `orders`,
    SUM(`t1`.`total`) AS `revenue`,
    MIN(`t1`.`order_date`) AS `first_order`,
    MAX(`t1`.`order_date`) AS `last_order`,
    ieee_divide(CAST(FLOOR((
      AVG(`t1`.`total`) * 1
    ) + 0.5) AS INT64), 1) AS `average_order_value`
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
  ) AS `t1`
  GROUP BY
    1
) AS `t2`
ORDER BY
  `t2`.`revenue` DESC,
  `t2`.`customer_id` ASC NULLS LAST
